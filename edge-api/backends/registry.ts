import { ApiError, notFound } from '../http/errors.ts';
import type { Backend, BackendStatus, Capability, ModelInfo } from './backend.ts';

export interface BackendRegistry {
  models(): ModelInfo[];
  /** The backend serving `model` for `capability`: 404 if none has it, 400 if it cannot do that. */
  forModel(model: string, capability: Capability): Backend;
  status(): Promise<BackendStatus[]>;
  close(): Promise<void>;
}

/** Routes each model to the backend that has it; GPU upstreams win over local copies of a model. */
export function backendRegistry(backends: Backend[]): BackendRegistry {
  // Model lists are fixed once the backends exist (configured upstreams, files present at startup),
  // so each request looks its model up instead of listing every backend's models again.
  const owners = new Map<string, { backend: Backend; info: ModelInfo }>();
  for (const backend of backends) {
    for (const info of backend.models()) {
      if (!owners.has(info.id)) {
        owners.set(info.id, { backend, info });
      }
    }
  }
  return {
    models() {
      return [...owners.values()].map(({ info }) => info);
    },
    forModel(model, capability) {
      const found = owners.get(model);
      if (!found) {
        throw notFound(`The model "${model}" does not exist; GET /v1/models lists them`, 'model_not_found');
      }
      if (!found.info.capabilities.includes(capability)) {
        throw new ApiError(400, 'model_not_capable', `The model "${model}" cannot do ${capability}`, {
          param: 'model'
        });
      }
      return found.backend;
    },
    async status() {
      return (await Promise.all(backends.map((backend) => backend.status()))).flat();
    },
    async close() {
      await Promise.all(backends.map((backend) => backend.close()));
    }
  };
}
