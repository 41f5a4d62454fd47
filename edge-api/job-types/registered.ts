import { medgemmaAnalyze } from './medgemma-analyze.ts';
import { JobTypeRegistry } from './registry.ts';

/** Every job type this server runs: a new one is one file beside this one and one line here. */
export const registeredJobTypes = new JobTypeRegistry().register(medgemmaAnalyze);
