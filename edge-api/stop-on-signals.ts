import type { Logger } from './http/logger.ts';

/**
 * Ends the process cleanly on SIGTERM (orchestrators) or SIGINT (Ctrl-C): `stop` finishes what is
 * running, then the exit code says whether it managed to.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  const onSignal = (signal: string) => {
    logger.info('stopping', { signal });
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('stop failed', { error: String(error) });
        process.exit(1);
      }
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
