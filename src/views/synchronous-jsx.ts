import { jsx } from 'hono/jsx';

/**
 * Keeps hono/jsx from running its renders inside an AsyncLocalStorage. The first time it renders,
 * hono looks for AsyncLocalStorage (`process.getBuiltinModule('node:async_hooks')`) and, finding
 * it, enters one for every render, so that a value provided to an async component survives an
 * await. On Node 20 an AsyncLocalStorage that has ever been entered installs async hooks for the
 * whole process: every promise created anywhere then pays an init hook, and signing ran ~10 %
 * slower once any page had been viewed (docs/performance.md, "two hundred signers at once").
 * Undersign's pages and emails render synchronously and use no JSX context, so the first render is made here while async_hooks is not offered: hono then
 * keeps its context for synchronous renders only, its documented fallback. Call before anything
 * renders (createContext does); later calls change nothing.
 */
export function keepJsxOffAsyncHooks(): void {
  const getBuiltinModule = process.getBuiltinModule;
  process.getBuiltinModule = ((id: string) => (id === 'node:async_hooks' || id === 'async_hooks' ? undefined : getBuiltinModule?.(id))) as typeof process.getBuiltinModule;
  try {
    // hono looks once, at its first render.
    String(jsx('i', {}));
  } finally {
    process.getBuiltinModule = getBuiltinModule;
  }
}
