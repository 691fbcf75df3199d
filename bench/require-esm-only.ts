import { registerHooks } from 'node:module';

/**
 * Lets `require` load middy, which exports only under the `import` condition. `tsx` runs this
 * package's `.ts` files as CommonJS (package.json has no `"type": "module"`), so without this
 * hook the runtime's `import middy from '@middy/core'` fails with ERR_PACKAGE_PATH_NOT_EXPORTED.
 * Node ≥ 22.12 can `require` an ES module; only the resolution needed the extra condition
 * (jest gets the same effect from its moduleNameMapper).
 */
export function requireEsmOnlyPackages(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!specifier.startsWith('@middy/')) return nextResolve(specifier, context);
      return nextResolve(specifier, {
        ...context,
        conditions: [...(context.conditions ?? []), 'import'],
      });
    },
  });
}
