// The model files of a run directory. A module of their own, apart from
// modelpath.ts, so the command line's help can name them without loading the
// model code.

export const BEST = 'best.lstmkit';
export const LAST = 'last.lstmkit';
