// Module hook for the shell test: `import ... from 'electron'` gets the stand-in next to this
// file instead of the npm package (whose import would try to download a binary).
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: new URL('./fake-electron.mjs', import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}
