// How a screen learns the till's launch token. In Electron the window's preload provides it
// (`window.tillback.getLaunch()`); in a browser it comes in the URL's fragment (`#token=...`), which
// the browser never sends to a server. The fragment is taken out of the address bar at once (so it is
// not bookmarked, shared or shown to the queue) and kept in this tab's sessionStorage, so a reload of
// the same tab still works; the token changes at every start of the till.
export interface Launch {
  token: string;
}

declare global {
  interface Window {
    /** Set by Electron's preload (electron/); absent in a browser. */
    tillback?: { getLaunch(): Launch | Promise<Launch> };
  }
}

const STORAGE_KEY = 'tillback.launch.token';

/** The token in a URL fragment such as `#token=abc`, if any. */
export function tokenFromFragment(hash: string): string | undefined {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token : undefined;
}

export async function getLaunch(): Promise<Launch | undefined> {
  if (window.tillback) return window.tillback.getLaunch();
  const fromFragment = tokenFromFragment(location.hash);
  if (fromFragment) {
    history.replaceState(null, '', location.pathname + location.search);
    sessionStorage.setItem(STORAGE_KEY, fromFragment);
    return { token: fromFragment };
  }
  const kept = sessionStorage.getItem(STORAGE_KEY);
  return kept ? { token: kept } : undefined;
}

/** After the till refused the token (it restarted): forget it, so the screen asks for a new link. */
export function forgetLaunch(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
