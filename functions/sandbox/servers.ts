/**
 * The two emulators behind `pmta-bounce sandbox` and the integration tests, started from code on
 * 127.0.0.1 only (the fauxqs CLI binds 0.0.0.0: never use it), on a free port unless one is given.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

interface LocalServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

type EmulatorPackage = 'dynalite' | 'fauxqs';

/**
 * The emulators are devDependencies (an install for local or cloud mode does not need them, nor
 * their native builds): loaded on first use, with the fix in the message when they are missing.
 */
async function importEmulator<T>(name: EmulatorPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(
      `${name} is a development dependency of pmta-bounce and is not installed: the sandbox needs it. ` +
        'Run `npm ci` (without --omit=dev) in a clone of the repository (README, "Try the cloud path locally").',
      { cause: error },
    );
  }
}

async function startDynalite(port = 0): Promise<LocalServer> {
  // In memory; tables are ACTIVE at once so startup stays fast.
  const { default: dynalite } = await importEmulator('dynalite', () => import('dynalite'));
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://${HOST}:${bound}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function startFauxqs(port = 0): Promise<LocalServer> {
  const { buildApp } = await importEmulator('fauxqs', () => import('fauxqs'));
  const app = buildApp({ logger: false });
  await app.listen({ port, host: HOST });
  const { port: bound } = app.server.address() as AddressInfo;
  return { endpoint: `http://${HOST}:${bound}`, stop: () => app.close() };
}

/** Both emulators load here, or the error says which is missing: checked before anything starts. */
async function checkEmulatorsInstalled(): Promise<void> {
  await importEmulator('fauxqs', () => import('fauxqs'));
  await importEmulator('dynalite', () => import('dynalite'));
}

type EmulatorKind = EmulatorPackage;

/** Startup of a child (tsx compile included) stops here at the latest. */
const CHILD_START_MS = 30_000;

/**
 * The same server in a child process (emulator-process.ts): it gets its own core. The child stops
 * when stop() is called, and by itself when this process exits (its stdin closes).
 */
function startEmulatorProcess(kind: EmulatorKind, port = 0): Promise<LocalServer> {
  const entry = fileURLToPath(new URL('./emulator-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', entry, kind, String(port)], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${kind} child did not start within ${CHILD_START_MS} ms`));
    }, CHILD_START_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} child exited (${code}) before it was ready`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n', 1)[0];
      if (line === undefined || !output.includes('\n')) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const endpoint = (JSON.parse(line) as { endpoint: string }).endpoint;
      resolve({ endpoint, stop });
    });
  });
}

export type { EmulatorKind, LocalServer };
export { checkEmulatorsInstalled, importEmulator, startDynalite, startEmulatorProcess, startFauxqs };
