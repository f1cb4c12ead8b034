import type { RepoLsArgs } from './args/repo.js';
import { openRegistry, type Context } from '../context.js';
import { printResult } from '../output.js';

/** `registry[/namespace]`: the catalog, filtered to the namespace and shown relative to it, as ORAS does. */
export async function run(context: Context, args: RepoLsArgs): Promise<void> {
  const input = args.target.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const slash = input.indexOf('/');
  const host = slash < 0 ? input : input.slice(0, slash);
  const namespace = slash < 0 ? '' : input.slice(slash + 1);
  const registry = await openRegistry(host, context);
  const last = args.last && namespace ? `${namespace}/${args.last}` : args.last;
  const all = await registry.catalog({ last });
  const repositories = namespace
    ? all
        .filter((name) => name.startsWith(`${namespace}/`))
        .map((name) => name.slice(namespace.length + 1))
    : all;
  printResult(context, repositories, {
    registry: host,
    namespace: namespace || undefined,
    repositories,
  });
}
