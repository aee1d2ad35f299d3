// The history's CSV export, downloaded with this manager's session: the route needs the launch token and
// the session in headers, which a plain link cannot send. So the file is fetched, kept as a Blob, and
// saved through a temporary object URL (a download, which the screens' CSP does not govern).
import { errorFromAnswer, ApiError, UNREACHABLE } from '../shared/api.ts';

/** The file name in a Content-Disposition header, or `fallback`. */
export function dispositionFilename(header: string | null, fallback: string): string {
  const name = header ? /filename="([^"]+)"/.exec(header)?.[1] : undefined;
  return name ?? fallback;
}

/** Fetches the export of `query` and saves it; resolves with the file's name. */
export async function downloadCsv(token: string, session: string, query: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`/api/history.csv${query ? `?${query}` : ''}`, {
      headers: { authorization: `Bearer ${token}`, 'x-operator-session': session },
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, UNREACHABLE, 'The till did not answer');
  }
  if (!response.ok) throw errorFromAnswer(response.status, await response.text().catch(() => ''));
  const file = dispositionFilename(response.headers.get('content-disposition'), 'history.csv');
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = file;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the data once the click returned; the URL is no longer needed after.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return file;
}
