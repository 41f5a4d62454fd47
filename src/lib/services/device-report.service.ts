/** What the status monitor tells of the browser it runs in: GPU adapter, storage, service worker. */
import { runsInSoftware } from './capabilities.service.ts';

/** The build's version, compiled in (vite.config.ts says why not `$app/env`'s). */
declare const __APP_VERSION__: string;

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader and the like): slow, though it works. */
  fallback: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number };
}

export interface StorageReport {
  usage: number;
  quota: number;
  /** Whether the browser keeps the data under storage pressure, instead of evicting it. */
  persisted: boolean;
}

export interface DeviceReport {
  appVersion: string;
  userAgent: string;
  /** null: no WebGPU adapter (models run on WASM). */
  adapter: AdapterReport | null;
  /** null: the browser does not tell. */
  storage: StorageReport | null;
  /** The service worker that controls the page, if any. */
  serviceWorker: { scriptUrl: string; state: ServiceWorkerState } | null;
}

async function adapterReport(): Promise<AdapterReport | null> {
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) {
    return null;
  }
  const { info, limits } = adapter;
  // The same rule the automatic variant choice follows, so the page and the choice agree.
  const fallback = runsInSoftware(adapter);
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    fallback,
    limits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize
    }
  };
}

export async function storageReport(): Promise<StorageReport | null> {
  if (!navigator.storage?.estimate) {
    return null;
  }
  // A browser that refuses to say (some private modes) leaves the line out, never the whole report.
  const report = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted()]).catch(() => null);
  if (!report) {
    return null;
  }
  const [estimate, persisted] = report;
  return { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted };
}

/** Asks the browser to keep this app's data under storage pressure; returns whether it agreed. */
export function requestPersistence(): Promise<boolean> {
  return navigator.storage.persist();
}

export async function deviceReport(): Promise<DeviceReport> {
  const [adapter, storage] = await Promise.all([adapterReport(), storageReport()]);
  const worker = navigator.serviceWorker?.controller;
  return {
    appVersion: __APP_VERSION__,
    userAgent: navigator.userAgent,
    adapter,
    storage,
    serviceWorker: worker ? { scriptUrl: worker.scriptURL, state: worker.state } : null
  };
}
