/** Rules about where the action may send things, shared by config (the inputs) and clients (addresses from a server). */

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Why an upload address handed out by the API must not be used, or undefined when it may be.
 * It is never less secure than the API's own address: https:// whenever the API is reached over
 * https://; plain http:// only when the API itself is plain http:// to a loopback host (local
 * tests), and then only to a loopback host too. No credentials in it.
 */
export function uploadUrlRefusal(apiUrl: URL, uploadUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uploadUrl);
  } catch {
    return "it is not a URL";
  }
  if (url.username || url.password) return "it carries credentials";
  if (url.protocol === "https:") return undefined;
  if (url.protocol !== "http:") return `its scheme '${url.protocol}' is neither https: nor http:`;
  if (apiUrl.protocol !== "http:" || !isLoopbackHost(apiUrl.hostname)) {
    return `it is plain http:// while 'api-url' is ${apiUrl.protocol}//${apiUrl.host}: the code is only sent over https:// then`;
  }
  if (!isLoopbackHost(url.hostname)) return "it is plain http:// to a host that is not loopback";
  return undefined;
}
