// The `serve` command under a bare commander program, for the shutdown test
// to run as a child process (src/cli/main.ts wires the same function). It
// does nothing unless LSTMKIT_SERVE_CLI=1, so the test runner can load it.

import { Command } from 'commander';
import { LstmkitError } from '../../src/core/errors.js';
import { registerServeCommand } from '../../src/cli/commands/serve.js';

if (process.env.LSTMKIT_SERVE_CLI === '1') {
  const program = new Command('lstmkit');
  registerServeCommand(program);
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (!(e instanceof LstmkitError)) throw e;
    process.stderr.write(`lstmkit: ${e.message}\n`);
    process.exit(1);
  }
}
