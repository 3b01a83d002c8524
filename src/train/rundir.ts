// A training run's directory on disk (Node): best.lstmkit and last.lstmkit,
// each written atomically by the model file layer. The trainer imports this
// module only when it is given a checkpoint directory, so it runs in browsers.

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTemps } from '../io/atomic.js';
import type { ModelFileExtra } from '../io/modelfile.js';
import { saveModel } from '../io/modelpath.js';
import { BEST, LAST } from '../io/runfiles.js';
import type { AnyModel } from '../model/models.js';
import type { CheckpointOptions, Trainer } from './trainer.js';

export interface RunDirectory {
  best: string;
  last: string;
  /** Whether last.lstmkit holds a checkpoint of this run (or of the run it resumed). */
  lastWritten: boolean;
  write(path: string, trainer: Trainer<AnyModel>, extra: Pick<ModelFileExtra, 'trainer'>): Promise<void>;
}

export async function openRunDirectory(o: CheckpointOptions): Promise<RunDirectory> {
  await mkdir(o.dir, { recursive: true });
  await removeStaleTemps(o.dir); // what a run killed while writing a checkpoint left behind
  const last = join(o.dir, LAST);
  const dir: RunDirectory = {
    best: join(o.dir, BEST),
    last,
    lastWritten: await stat(last).then(() => true, () => false),
    async write(path, trainer, extra) {
      const facts = o.training?.(trainer);
      await saveModel(path, trainer.model, {
        ...(o.preprocessing !== undefined ? { preprocessing: o.preprocessing } : {}),
        ...(facts !== undefined ? { training: facts } : {}),
        ...extra,
      });
      if (path === last) dir.lastWritten = true;
    },
  };
  return dir;
}
