// The definition of `lstmkit playground`. The action imports ../playground.js
// when it runs.

import { InvalidArgumentError, type Command } from 'commander';

export function registerPlaygroundCommand(program: Command): Command {
  const port = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535; 0 picks a free one)');
    return n;
  };
  return program.command('playground')
    .description('serve the browser playground: train a forecaster, classifier or text generator in the browser, download the model')
    .option('--port <n>', 'port', port, 5178)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (o: { port: number; host: string }) => (await import('../playground.js')).playgroundCommand(o));
}
