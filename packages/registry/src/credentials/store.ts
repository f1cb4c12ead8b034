/**
 * Credentials as docker and oras keep them: `credHelpers[host]` wins over `credsStore`, which
 * wins over plaintext `auths`. As in docker (and oras), once a helper is configured for a host
 * the file's `auths` are not consulted for it, and a helper that is missing or failing is an
 * error rather than a silent fallback to plaintext: the caller decides whether to go anonymous.
 */
import { FerryError } from '@ferry/oci';
import type { ConfigObject, Credential } from './docker-config.js';
import {
  canonicalKey,
  configError,
  CredentialErrorCode,
  decodeEntry,
  encodeEntry,
  isObject,
  matchingKeys,
  normaliseHost,
  readConfig,
  resolveConfigPath,
  setOwn,
  withoutSecrets,
  writeConfigAtomic,
} from './docker-config.js';
import type { HelperRef, HelperRunner } from './helper.js';
import { helperErase, helperGet, helperStore, spawnHelperRunner } from './helper.js';

export interface CredentialStoreOptions {
  /** An explicit config file (`--registry-config`); wins over DOCKER_CONFIG and HOME. */
  configPath?: string;
  /** Where DOCKER_CONFIG, HOME and the helpers' PATH come from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Injectable for tests; the default spawns `docker-credential-<helper> <action>`. */
  helperRunner?: HelperRunner;
  /** How long a credential helper may take before it is stopped (default 30 s). */
  helperTimeoutMs?: number;
}

export class CredentialStore {
  readonly #path: string;
  readonly #runner: HelperRunner;
  /** Serialises this instance's read-modify-write cycles so concurrent logins do not race. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: CredentialStoreOptions = {}) {
    const env = options.env ?? process.env;
    this.#path = resolveConfigPath(options.configPath, env);
    this.#runner =
      options.helperRunner ?? spawnHelperRunner(env, { timeoutMs: options.helperTimeoutMs });
  }

  /** The resolved config file: configPath, else $DOCKER_CONFIG/config.json, else ~/.docker. */
  get path(): string {
    return this.#path;
  }

  async get(host: string): Promise<Credential | undefined> {
    const key = canonicalKey(host);
    const config = (await readConfig(this.#path)) ?? {};
    const helper = this.#helperFor(config, host);
    if (helper) return helperGet(this.#runner, helper, key);
    const auths = objectField(config, 'auths');
    // Variants (`https://host`, `host/v1/`) are consulted when the canonical entry is empty.
    for (const k of matchingKeys(auths, host)) {
      const credential = decodeEntry(auths[k], this.#path, k);
      if (credential) return credential;
    }
    return undefined;
  }

  /** `login`: through the configured helper, or into `auths` in plaintext like docker. */
  store(host: string, credential: Credential): Promise<void> {
    return this.#exclusive(async () => {
      const key = canonicalKey(host);
      const { username, password, identityToken, registryToken } = credential;
      if (!username && !password && !identityToken && !registryToken) {
        throw new FerryError(
          CredentialErrorCode.InvalidCredential,
          `no credential to store for ${key}`,
        );
      }
      const config = (await readConfig(this.#path)) ?? {};
      const auths = objectField(config, 'auths');
      const previous = Object.hasOwn(auths, key) ? auths[key] : undefined;
      const helper = this.#helperFor(config, host);
      if (helper) {
        await helperStore(this.#runner, helper, key, credential);
        // Docker records the login as an empty entry, which is what `docker logout` looks for.
        setOwn(auths, key, withoutSecrets(previous));
      } else {
        setOwn(auths, key, encodeEntry(previous, credential));
      }
      config['auths'] = auths;
      await writeConfigAtomic(this.#path, config);
    });
  }

  /** `logout`: removes every key naming the host, and the helper's entry if there is one. */
  erase(host: string): Promise<void> {
    return this.#exclusive(async () => {
      const key = canonicalKey(host);
      const config = await readConfig(this.#path);
      const auths = config ? objectField(config, 'auths') : {};
      const helper = config ? this.#helperFor(config, host) : undefined;
      const erased = helper ? await helperErase(this.#runner, helper, key) : false;
      const keys = matchingKeys(auths, host);
      if (config && keys.length > 0) {
        for (const k of keys) delete auths[k];
        config['auths'] = auths;
        await writeConfigAtomic(this.#path, config);
      } else if (!erased) {
        throw new FerryError(CredentialErrorCode.NotLoggedIn, `not logged in to ${key}`);
      }
    });
  }

  #helperFor(config: ConfigObject, host: string): HelperRef | undefined {
    const helpers = objectField(config, 'credHelpers');
    const key = canonicalKey(host);
    const normal = normaliseHost(host);
    const match = Object.hasOwn(helpers, key)
      ? key
      : Object.keys(helpers).find((k) => normaliseHost(k) === normal);
    if (match !== undefined) {
      const name = helpers[match];
      if (typeof name !== 'string') {
        throw configError(this.#path, `credHelpers[${JSON.stringify(match)}] must be a string`);
      }
      // An empty name means "no helper here" to docker; fall through to credsStore.
      if (name) return { name, source: `credHelpers[${JSON.stringify(match)}] in ${this.#path}` };
    }
    const store = config['credsStore'];
    if (typeof store === 'string' && store) {
      return { name: store, source: `"credsStore" in ${this.#path}` };
    }
    return undefined;
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task, task);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** What the registry client's auth layer asks: "what do I have for this host?" */
export function credentialProvider(
  store: CredentialStore,
): (host: string) => Promise<Credential | undefined> {
  return (host) => store.get(host);
}

/** `auths`/`credHelpers` itself, mutated in place (the config is re-read on every call). */
function objectField(config: ConfigObject, field: string): ConfigObject {
  const value = Object.hasOwn(config, field) ? config[field] : undefined;
  return isObject(value) ? value : {};
}
