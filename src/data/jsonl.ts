// JSONL: one JSON object per line. Errors name the file and line; blank
// lines are skipped. Browser-safe; reading files is in jsonlfile.ts.

import { DataError } from '../core/errors.js';

export interface JsonlRecord {
  line: number;
  value: Record<string, unknown>;
}

/** Parse JSONL text; `file` names the source in errors. */
export function parseJsonl(text: string, file = '<input>'): JsonlRecord[] {
  const out: JsonlRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`not valid JSON (${(e as Error).message.replace(/ in JSON at position \d+.*$/, '')})`, file, i + 1);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`expected a JSON object like {"x": [...], "y": ...}, got ${Array.isArray(value) ? 'an array' : typeof value}`, file, i + 1);
    }
    out.push({ line: i + 1, value: value as Record<string, unknown> });
  }
  return out;
}
