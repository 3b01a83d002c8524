// The ONNX operator sets export writes. A module of its own, apart from
// export.ts, so the command line's help can show them without loading the
// protobuf writer.

export const ONNX_OPSETS = { min: 14, max: 21 } as const;
