// Validating JSON (configs, model-file metadata, requests) against a JSON
// Schema made with TypeBox, with an error a person can act on: the field by
// its dotted name, what it must be — for a choice, the choices; for a
// misspelt key, the keys there are — and what came.

import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueError } from './errors.js';

/** JSON-pointer-ish path to a readable one: /rnn/hiddenSize → rnn.hiddenSize, /a/0 → a[0]. */
export function readablePath(path: string): string {
  return path.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.') || '(root)';
}

/** What a value of this schema looks like, in a few words: 'adam', { name: 'step', stepSize, gamma? }, a number. */
export function describeSchema(schema: TSchema): string {
  const s = schema as TSchema & { const?: unknown; anyOf?: TSchema[]; properties?: Record<string, TSchema>; required?: string[]; type?: string };
  if (s.const !== undefined) return JSON.stringify(s.const).replace(/"/g, "'");
  if (s.anyOf) return choices(s.anyOf.map(describeSchema));
  if (s.properties) {
    const required = new Set(s.required ?? []);
    const fields = Object.entries(s.properties).map(([key, field]) => {
      const lit = (field as { const?: unknown }).const;
      if (lit !== undefined) return `${key}: ${describeSchema(field)}`;
      return required.has(key) ? key : `${key}?`;
    });
    return `{ ${fields.join(', ')} }`;
  }
  return s.type === 'integer' ? 'an integer' : s.type === 'array' ? 'an array' : s.type === 'object' ? 'an object' : `a ${s.type ?? 'value'}`;
}

function choices(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Validate against a schema; the error names the field, what was expected and what came. */
export function validate<S extends TSchema>(schema: S, value: unknown, where: string): Static<S> {
  if (Value.Check(schema, value)) return value;
  const { path, text } = explain(schema, value);
  throw new ValueError(`${where}: ${readablePath(path)} ${text}`);
}

/** The first thing wrong with `value`: where (a JSON pointer) and what, in words. */
function explain(schema: TSchema, value: unknown): { path: string; text: string } {
  const errors = [...Value.Errors(schema, value)];
  // Prefer the deepest error: for unions TypeBox reports the union first.
  errors.sort((a, b) => b.path.length - a.path.length);
  const e = errors[0]!;
  const got = e.value === undefined ? 'nothing' : JSON.stringify(e.value)?.slice(0, 60);
  const union = (e.schema as { anyOf?: TSchema[] }).anyOf;
  if (union) {
    // A choice of objects told apart by a literal field ({ name: 'step', … }): when the value names one, explain that one.
    const named = union.filter((alt) => literalsMatch(alt, e.value));
    if (named.length === 1) {
      const inner = explain(named[0]!, e.value);
      return { path: e.path + inner.path, text: inner.text };
    }
    return { path: e.path, text: `must be ${describeSchema(e.schema)}; got ${got}` };
  }
  if (/unexpected property/i.test(e.message)) {
    const parent = e.path.replace(/\/[^/]*$/, '');
    const keys = Object.keys((e.schema as { properties?: Record<string, TSchema> }).properties ?? {});
    return { path: parent, text: `has no field '${e.path.slice(parent.length + 1)}'${keys.length ? ` (its fields: ${keys.join(', ')})` : ''}` };
  }
  if (/required property/i.test(e.message)) return { path: e.path, text: 'is missing' };
  return { path: e.path, text: `${e.message.toLowerCase()}, got ${got}` };
}

/** Whether every literal-valued property of an object schema has that value in `value`. */
function literalsMatch(schema: TSchema, value: unknown): boolean {
  const props = (schema as { properties?: Record<string, { const?: unknown }> }).properties;
  if (!props || typeof value !== 'object' || value === null) return false;
  const literals = Object.entries(props).filter(([, p]) => p.const !== undefined);
  return literals.length > 0 && literals.every(([key, p]) => (value as Record<string, unknown>)[key] === p.const);
}
