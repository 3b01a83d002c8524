// The definition of `lstmkit quickstart`. The action imports ../quickstart.js
// when it runs, so help and the other commands do not load the forecaster and
// the HTTP server.

import type { Command } from 'commander';
import type { QuickstartArgs } from '../quickstart.js';

export function registerQuickstartCommand(program: Command): Command {
  return program.command('quickstart')
    .description('train a CO2 forecaster, serve it over HTTP and serve the playground (the README main job)')
    .option('--out <dir>', 'where the model and a sample request go', 'runs/quickstart')
    .option('--port <n>', 'server port', (v) => Number.parseInt(v, 10), 8080)
    .option('--playground-port <n>', 'playground port', (v) => Number.parseInt(v, 10), 5178)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--check', 'ask the server once, print the answer and stop')
    .action(async (o: QuickstartArgs) => (await import('../quickstart.js')).quickstartCommand(o));
}
