import { ApiError, unprocessable } from '../http/errors.ts';
import type { JobHandler } from '../jobs/job-queue.ts';
import type { JobServices, JobType, Submitter } from './job-type.ts';

/** One registered job type with its handler bound to the runtime: what routes admit with and workers run. */
export interface BoundJobType {
  type: JobType;
  /**
   * Validates a submitted input against the type's schema, then runs the checks only the server
   * can make (is a model that can do the work served? are the referenced uploads there?). Throws
   * a 422 naming the field; resolves to the parsed input that gets queued.
   */
  admit(input: unknown, submitter: Submitter): Promise<unknown>;
}

/** The registered job types, bound to one runtime's services. */
export interface JobTypes {
  /** Registered names, in registration order. */
  readonly names: readonly string[];
  readonly all: readonly JobType[];
  get(name: string): BoundJobType | undefined;
  /** The queue's handlers: each one re-reads its input through the schema it was accepted with. */
  handlers(): Record<string, JobHandler>;
}

/** Every job type the server knows; `registered.ts` holds the one list of them. */
export class JobTypeRegistry {
  readonly #types = new Map<string, JobType>();

  /** Adds a job type; a name registered twice is a programming error, caught at startup. */
  register(type: JobType): this {
    if (this.#types.has(type.type)) {
      throw new Error(`The job type "${type.type}" is registered twice`);
    }
    this.#types.set(type.type, type);
    return this;
  }

  /** The registered types, in registration order. */
  get all(): readonly JobType[] {
    return [...this.#types.values()];
  }

  /** Binds every registered type's handler to the runtime's services, once per runtime. */
  bind(services: JobServices): JobTypes {
    const bound = new Map(
      [...this.#types.values()].map((type) => [type.type, { type, handler: type.handler(services) }] as const)
    );
    return {
      names: [...bound.keys()],
      all: this.all,
      get(name) {
        const entry = bound.get(name);
        if (!entry) {
          return undefined;
        }
        const { type, handler } = entry;
        return {
          type,
          async admit(input, submitter) {
            const parsed = type.input.safeParse(input);
            if (!parsed.success) {
              const issue = parsed.error.issues[0];
              const path = ['input', ...(issue?.path ?? [])].join('.');
              throw unprocessable(
                `Invalid input at "${path}": ${issue?.message ?? 'invalid'}`,
                'validation_failed',
                path
              );
            }
            if (type.needs) {
              checkServed(services, type.needs, parsed.data);
            }
            await handler.admit?.(parsed.data, submitter);
            return parsed.data;
          }
        };
      },
      handlers() {
        return Object.fromEntries(
          [...bound.values()].map(
            ({ type, handler }) =>
              [type.type, (job, context) => handler.run(type.input.parse(job.input), job, context)] as const
          )
        );
      }
    };
  }
}

/** A job's model must be served by a backend that can do what the job needs; else 422 with the fix. */
function checkServed(services: JobServices, needs: NonNullable<JobType['needs']>, input: unknown): void {
  const model = needs.model(input, services.config);
  try {
    services.backends.forModel(model, needs.capability);
  } catch (error) {
    if (error instanceof ApiError) {
      throw unprocessable(`${error.message}. ${needs.fix}`, error.code, 'input.model');
    }
    throw error;
  }
}
