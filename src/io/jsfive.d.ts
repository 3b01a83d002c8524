// The part of jsfive (https://github.com/usnistgov/jsfive, public domain; no
// types of its own) that src/io/hdf5.ts uses. The underscored members are
// jsfive's internals, which hdf5.ts reads to check a dataset's layout and to
// meter variable-length strings; package.json pins jsfive's exact version for
// them, and test/io/hdf5.test.ts fails if they move.

declare module 'jsfive' {
  /** One message of an object header: 'type', 'size' and 'offset_to_message' (into the file). */
  type HeaderMessage = Map<string, number>;

  interface DataObjects {
    msgs: HeaderMessage[];
    _vlen_size_and_data(buf: ArrayBuffer, offset: number): [number, ArrayBuffer];
  }

  export class Group {
    readonly name: string;
    readonly keys: string[];
    readonly attrs: Record<string, unknown>;
    get(path: string): Group | Dataset | null;
    _dataobjects: DataObjects;
  }

  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }

  export class Dataset {
    readonly name: string;
    readonly shape: number[];
    /** A NumPy-style string ('<f4', '>f8', 'S12', …) or an array for compound and variable-length types. */
    readonly dtype: unknown;
    readonly value: unknown[];
    readonly attrs: Record<string, unknown>;
    _dataobjects: DataObjects;
  }
}
