// A stand-alone `lstmkit`-like entry with only the text commands (classify,
// generate, sample), so they are tested as a real process whether or not
// main.ts wires them. Same error contract as main.ts: a user mistake prints
// one line, exit 1.

import { Command } from 'commander';
import { LstmkitError } from '../../src/core/errors.js';
import { registerTextCommands } from '../../src/cli/commands/text.js';

const program = new Command('lstmkit').showHelpAfterError();
registerTextCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof LstmkitError) {
    process.stderr.write(`lstmkit: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
