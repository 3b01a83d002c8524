// A stand-alone `lstmkit`-like entry with only the forecast commands, so the
// forecast CLI is tested as a real process whether or not main.ts wires it.
// Same error contract as main.ts: a user mistake prints one line, exit 1.

import { Command } from 'commander';
import { LstmkitError } from '../../src/core/errors.js';
import { registerForecastCommands } from '../../src/cli/commands/forecast.js';

const program = new Command('lstmkit').showHelpAfterError();
registerForecastCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof LstmkitError) {
    process.stderr.write(`lstmkit: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
