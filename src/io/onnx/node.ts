// One ONNX node as the importer reads it: its attributes, typed and checked,
// and its inputs, with every error naming the node. Each operator's
// evaluation (an OpEval) gets one from ./graph.ts.

import { FormatError } from '../../core/errors.js';
import { text, type OnnxAttribute, type OnnxNode, type OnnxTensorProto } from './proto.js';
import type { ImportState } from './state.js';
import type { Act, Value } from './values.js';

/**
 * How an operator is evaluated: its node's input values (undefined where an optional input is not given) to its
 * output values (undefined where it gives none).
 */
export type OpEval = (state: ImportState, ctx: NodeCtx, ins: (Value | undefined)[]) => (Value | undefined)[];

/** One node's attributes and inputs, with errors that name it. */
export class NodeCtx {
  private readonly attrs = new Map<string, OnnxAttribute>();

  constructor(readonly node: OnnxNode, readonly where: string) {
    for (const a of node.attribute) {
      const name = a.name ?? '';
      if (a.ref_attr_name) throw this.fail(`attribute '${name}' refers to a function attribute, which lstmkit does not read`);
      if (this.attrs.has(name)) throw this.fail(`attribute '${name}' is given twice`);
      this.attrs.set(name, a);
    }
  }

  fail(message: string): FormatError {
    return new FormatError(`${this.where}: ${message}`);
  }

  refuse(message: string): never {
    throw this.fail(message);
  }

  /** Refuse any attribute not listed. */
  allow(...names: string[]): void {
    for (const name of this.attrs.keys()) {
      if (!names.includes(name)) throw this.fail(`attribute '${name}' is not supported`);
    }
  }

  attr(name: string): OnnxAttribute | undefined {
    return this.attrs.get(name);
  }

  input(ins: (Value | undefined)[], k: number): Value {
    const v = ins[k];
    if (v === undefined) throw this.fail(`input ${k} is missing`);
    return v;
  }

  /** An input that must be an activation (the data flowing from the model input), named `what` in the error. */
  activation(v: Value, what: string): Act {
    if (v.kind === 'act') return v;
    if (v.kind === 'input') throw this.fail(`${what} is graph input '${v.name}', which a SequenceModel has no place for`);
    const kind = v.kind === 'float' || v.kind === 'int' ? 'constant' : v.kind === 'lengths' ? 'sequence-lengths input' : v.kind;
    throw this.fail(`${what} is a ${kind}, where an activation was expected`);
  }

  /** Refuse an activation past the dense head or its softmax, which end a SequenceModel. */
  noHead(act: Act): void {
    if (act.softmax) throw this.fail(`comes after ${act.softmax}; lstmkit's model ends with the head's softmax`);
    if (act.head) throw this.fail('reshapes or selects the outputs of the dense head, which a SequenceModel cannot express');
  }

  /**
   * Refuse an activation past the softmax; the ops that may follow the head itself (its bias, a transpose or squeeze
   * of its outputs) check this instead of noHead.
   */
  noSoftmax(act: Act): void {
    if (act.softmax) throw this.fail(`comes after ${act.softmax}; lstmkit's model ends with the head's softmax`);
  }

  private typed(name: string, type: string, present: (a: OnnxAttribute) => boolean): OnnxAttribute | undefined {
    const a = this.attrs.get(name);
    if (a === undefined) return undefined;
    if (a.type !== undefined && a.type !== 'UNDEFINED' ? a.type !== type : !present(a)) throw this.fail(`attribute '${name}' is not of type ${type}`);
    return a;
  }

  intAttr(a: OnnxAttribute): number {
    if (a.type !== undefined && a.type !== 'INT' && a.type !== 'UNDEFINED') throw this.fail(`attribute '${a.name ?? ''}' is not of type INT`);
    return a.i ?? 0;
  }

  floatAttr(a: OnnxAttribute): number {
    if (a.type !== undefined && a.type !== 'FLOAT' && a.type !== 'UNDEFINED') throw this.fail(`attribute '${a.name ?? ''}' is not of type FLOAT`);
    return a.f ?? 0;
  }

  tensorAttr(a: OnnxAttribute): OnnxTensorProto {
    if (!a.t) throw this.fail(`attribute '${a.name ?? ''}' is not a tensor`);
    return a.t;
  }

  int(name: string, fallback?: number): number {
    const a = this.typed(name, 'INT', (x) => x.i !== undefined);
    if (a === undefined) {
      if (fallback === undefined) throw this.fail(`attribute '${name}' is missing`);
      return fallback;
    }
    return a.i ?? 0;
  }

  float(name: string, fallback: number): number {
    const a = this.typed(name, 'FLOAT', (x) => x.f !== undefined);
    return a === undefined ? fallback : a.f ?? 0;
  }

  str(name: string, fallback: string): string {
    const a = this.typed(name, 'STRING', (x) => x.s !== undefined);
    return a === undefined ? fallback : text(a.s);
  }

  ints(name: string): number[] {
    const a = this.typed(name, 'INTS', (x) => x.ints.length > 0);
    if (a === undefined) throw this.fail(`attribute '${name}' is missing`);
    return a.ints.slice();
  }

  strs(name: string): string[] {
    const a = this.typed(name, 'STRINGS', (x) => x.strings.length > 0);
    return a === undefined ? [] : a.strings.map((s) => text(s));
  }

  /** Axes from an input (opset 13+) or the `axes` attribute (earlier opsets). */
  axes(input: Value | undefined, name: string): number[] {
    if (input !== undefined) {
      if (input.kind !== 'int' || input.shape.length > 1 || input.data.some((d) => typeof d !== 'number')) {
        throw this.fail(`${name} is not a constant integer vector`);
      }
      return input.data as number[];
    }
    return this.attrs.has(name) ? this.ints(name) : [];
  }
}
