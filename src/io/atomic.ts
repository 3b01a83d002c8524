// Crash-safe file writes (Node only). The bytes go to a temporary file in the
// target's directory, are flushed to disk, and the temporary file is renamed
// over the target; rename within one file system is atomic, so a reader, or the
// disk after a crash, sees the old file or the new one, never half of either.

import { randomBytes } from 'node:crypto';
import { open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Write `data` to `path` atomically: temp file, fsync, rename, fsync of the
 * directory. A symbolic link at `path` is followed, and an existing file's
 * permissions are kept. On any error the temporary file is removed and the
 * target is left as it was.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const target = await resolveLink(path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = await stat(target).then((s) => s.mode & 0o7777, () => undefined);
  let created = false;
  try {
    const handle = await open(temp, 'wx', mode ?? 0o666);
    created = true;
    try {
      if (mode !== undefined) await handle.chmod(mode); // open's mode is filtered by the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    created = false;
  } catch (err) {
    if (created) await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** The file a symbolic link points to, so the rename replaces the file and keeps the link. */
async function resolveLink(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw err;
  }
}

/** Make the rename itself durable. Some platforms (Windows) cannot open a directory; that is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle.close();
  }
}

/** A temporary file of writeFileAtomic: `.<name>.<pid>.<random>.tmp`. */
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/**
 * Remove the temporary files that writers killed mid-write left in `dir` (their process is gone; a live
 * writer's file is left alone). Returns the names removed.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = TEMP.exec(name);
    if (!m || alive(Number(m[2]))) continue;
    await unlink(join(dir, name)).then(() => removed.push(name), () => undefined);
  }
  return removed;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process: alive
  }
}
