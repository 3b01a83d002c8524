// A forecaster model file: rows of the series in, the next `horizon` values
// out, exactly as Forecaster.forecast() gives them; bad rows name the instance.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeModelFile } from '../../src/index.js';
import { Forecaster } from '../../src/tasks/forecaster.js';
import { errorOf, serve } from './helpers.js';

function monthly(count: number): { month: string; sales: number; price: number }[] {
  return Array.from({ length: count }, (_, i) => ({
    month: `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}-01`,
    sales: 100 + i + 10 * Math.sin((2 * Math.PI * i) / 12),
    price: 5 + (i % 3),
  }));
}

test('forecast: rows in, the next horizon values out, as Forecaster.forecast gives them', async () => {
  const rows = monthly(72);
  const forecaster = await Forecaster.fit(rows, {
    dateColumn: 'month', target: 'sales', features: ['price'], lookback: 12, horizon: 3,
    model: { hiddenSize: 8 }, train: { epochs: 2, seed: 1 },
  });
  const contents = decodeModelFile(forecaster.toBytes());
  const s = await serve({ modelContents: { sales: contents } });
  try {
    const info = (await (await s.get('/v1/model')).json()) as { task: string; input: { schema: { items: { required: string[] } } } };
    assert.equal(info.task, 'forecast');
    assert.deepEqual(info.input.schema.items.required, ['month', 'sales', 'price']);
    const recent = rows.slice(-30);
    const earlier = rows.slice(0, 40);
    const res = await s.post('/v1/predict', { instances: [recent, earlier] });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as {
      predictions: { origin: string; dates: string[]; values: number[]; naive: number[] }[];
    };
    for (const [i, data] of [recent, earlier].entries()) {
      const expected = forecaster.forecast(data);
      const got = body.predictions[i]!;
      assert.equal(got.origin, expected.origin);
      assert.deepEqual(got.dates, expected.dates);
      assert.equal(got.values.length, 3);
      got.values.forEach((v, k) => assert.ok(Math.abs(v - expected.values[k]!) < 1e-6));
      assert.deepEqual(got.naive, expected.naive);
    }
    const short = await errorOf(await s.post('/v1/predict', { instances: [recent, rows.slice(0, 5)] }));
    assert.deepEqual([short.status, short.field], [400, 'instances[1]']);
    assert.match(short.error, /too few rows/);
    const missing = await errorOf(await s.post('/v1/predict', { x: [{ month: '2001-01-01', sales: 3 }, { month: '2001-02-01', sales: 3 }] }));
    assert.deepEqual([missing.status, missing.field], [400, 'x[0].price']);
    const gap = [...recent.slice(0, 10), ...recent.slice(11)];
    const gapped = await errorOf(await s.post('/v1/predict', { x: gap }));
    assert.deepEqual([gapped.status, gapped.field], [400, 'x']);
    assert.match(gapped.error, /gap in the dates/);
  } finally {
    await s.close();
  }
});
