// The definitions of `lstmkit forecast train | eval | predict`: names,
// options, defaults and help. Each action imports ../forecast.js when it runs,
// so help and the other commands do not load the forecaster.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { BEST } from '../../io/runfiles.js';
import { DEFAULT_FORECAST_TRAIN } from '../../tasks/forecast-defaults.js';
import type { ForecastTrainArgs } from '../forecast.js';
import { positiveInt, nonNegativeInt, positiveNumber } from '../args.js';

const partSize = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0) || (n >= 1 && !Number.isInteger(n))) throw new InvalidArgumentError('expected a fraction in [0, 1) or a whole number of rows');
  return n;
};
const dropoutRate = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1)');
  return n;
};
const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
const collectWhere = (v: string, previous: Record<string, string> | undefined): Record<string, string> => {
  const at = v.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected column=value');
  return { ...previous, [v.slice(0, at).trim()]: v.slice(at + 1).trim() };
};

/** Add `lstmkit forecast train | eval | predict` to the program. */
export function registerForecastCommands(program: Command): Command {
  const forecast = program.command('forecast').description('forecast a time series from a CSV: train, evaluate against naive baselines, predict');

  forecast.command('train')
    .description('train a forecaster; prints the test-period metrics against the naive and seasonal-naive forecasts')
    .requiredOption('--csv <file>', 'the data: a date column, the target, optional feature columns')
    .requiredOption('--date <column>', 'the date/time column')
    .requiredOption('--target <column>', 'the column to forecast')
    .requiredOption('--lookback <n>', 'steps the model sees', positiveInt)
    .requiredOption('--horizon <n>', 'steps it predicts at once', positiveInt)
    .option('--features <a,b>', 'numeric input columns (list the target to feed its level too)', list)
    .option('--where <column=value>', 'keep only rows where column = value (repeatable), e.g. symbol=AAPL', collectWhere)
    .option('--season <n>', 'season length in steps (default by frequency: 12 monthly, 7 daily, 24 hourly, 4 quarterly, 52 weekly)', positiveInt)
    .addOption(
      new Option(
        '--transform <kind>',
        'what the model predicts: the change from the last value, that change beyond the drift of the last season, or the level',
      ).choices(['delta', 'drift', 'level']).default('delta'),
    )
    .addOption(new Option('--scaler <kind>', 'input/output scaling, fitted on the training rows').choices(['standard', 'minmax']).default('standard'))
    .option('--no-calendar', 'leave out the sin/cos season-phase inputs')
    .addOption(
      new Option('--gaps <policy>', 'missing dates: an error, or rows filled by linear interpolation')
        .choices(['error', 'interpolate']).default('error'),
    )
    .option('--freq <name>', 'the step between rows (daily, weekly, monthly, quarterly, yearly, hourly); inferred when left out')
    .option('--val-size <x>', 'validation part: a fraction of the rows or a row count', partSize, 0.15)
    .option('--test-size <x>', 'test part (the last rows): a fraction or a row count', partSize, 0.15)
    .addOption(new Option('--cell <kind>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default('lstm'))
    .option('--hidden <n>', 'hidden size (default 32)', positiveInt)
    .option('--layers <n>', 'stacked layers (default 1)', positiveInt)
    .option('--dropout <p>', 'dropout between stacked layers', dropoutRate)
    .option('--epochs <n>', `most epochs (default ${DEFAULT_FORECAST_TRAIN.epochs})`, positiveInt)
    .option('--batch-size <n>', `batch size (default ${DEFAULT_FORECAST_TRAIN.batchSize})`, positiveInt)
    .option('--lr <rate>', 'Adam learning rate (default 0.003)', positiveNumber)
    .option('--patience <n>', 'early stopping: epochs without a better validation loss (default 10)', nonNegativeInt)
    .option('--seed <n>', 'random seed (default 0)', nonNegativeInt)
    .option('--out <dir>', `run directory for ${BEST}`, 'run')
    .option('--chart <file>', 'write the test-period chart (.svg, or .html with the metrics table)')
    .option('--json', 'print one JSON object (model path, split, test metrics)')
    .option('--quiet', 'no per-epoch lines')
    .action(async (o: ForecastTrainArgs) => (await import('../forecast.js')).forecastTrainCommand(o));

  forecast.command('eval')
    .description('rolling-origin evaluation against the naive and seasonal-naive forecasts (MAE, RMSE, MASE)')
    .argument('<model>', 'model file or run directory')
    .requiredOption('--csv <file>', 'the data, with the columns the forecaster was trained on')
    .option('--from <date>', 'first date of the evaluation period (default: where the test part started in training)')
    .option('--chart <file>', 'write the chart (.svg, or .html with the metrics table)')
    .option('--json', 'print the metrics as JSON')
    .action(async (model: string, o: { csv: string; from?: string; chart?: string; json?: boolean }) =>
      (await import('../forecast.js')).forecastEvalCommand(model, o));

  forecast.command('predict')
    .description('forecast the steps after the last row (or after --origin): CSV of date, forecast, naive, seasonal_naive, actual')
    .argument('<model>', 'model file or run directory')
    .requiredOption('--csv <file>', 'the history, with the columns the forecaster was trained on')
    .option('--origin <date>', 'forecast from this date instead of the last row (later rows become the actuals)')
    .option('--out <file>', 'write the forecast CSV here instead of stdout')
    .option('--chart <file>', 'write the chart of history, forecast and actuals (.svg or .html)')
    .action(async (model: string, o: { csv: string; origin?: string; out?: string; chart?: string }) =>
      (await import('../forecast.js')).forecastPredictCommand(model, o));

  return forecast;
}
