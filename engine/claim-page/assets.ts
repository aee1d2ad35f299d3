// The claim page's three files, made once per engine on first use: the script bundled and minified
// by esbuild from client/ (TypeScript, with the contract's Luhn, BSB and PayID checks, so the page
// and the API check values the same way), the stylesheet minified, and page.html filled in for each
// language of messages/. Script and stylesheet are named by a hash of their content, so a phone may
// cache them for good and still never runs an old script against a new page.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';
import { z } from 'zod';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

const catalogueSchema = z.object({
  meta: z.object({ name: z.string().min(1), dir: z.enum(['ltr', 'rtl']) }),
  page: z.record(z.string(), z.string()),
  script: z.record(z.string(), z.string()),
});
type Catalogue = z.infer<typeof catalogueSchema>;

export interface Asset {
  type: string;
  body: Buffer;
}

export interface ClaimPageAssets {
  /** Language codes with a catalogue, English first. */
  languages: string[];
  /** The page in `lang` (one of `languages`). */
  page(lang: string): string;
  /** A script or stylesheet by its name under /c/assets/. */
  asset(name: string): Asset | undefined;
}

/** Every messages/<lang>.json, each checked to have exactly the English catalogue's keys. */
export function loadCatalogues(): Map<string, Catalogue> {
  const dir = here('./messages/');
  const catalogues = new Map<string, Catalogue>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const lang = file.slice(0, -'.json'.length);
    if (!/^[a-z]{2,3}(-[A-Z][A-Za-z0-9]{1,7})?$/.test(lang)) {
      throw new Error(
        `claim page: messages/${file} is not named for a language (like ar.json or pt-BR.json)`,
      );
    }
    catalogues.set(lang, catalogueSchema.parse(JSON.parse(readFileSync(dir + file, 'utf8'))));
  }
  const en = catalogues.get('en');
  if (!en) throw new Error('claim page: messages/en.json, the reference catalogue, is missing');
  for (const [lang, catalogue] of catalogues) {
    for (const part of ['page', 'script'] as const) {
      const missing = Object.keys(en[part]).filter((k) => !(k in catalogue[part]));
      const unknown = Object.keys(catalogue[part]).filter((k) => !(k in en[part]));
      if (missing.length > 0 || unknown.length > 0) {
        throw new Error(
          `claim page: messages/${lang}.json "${part}" lacks [${missing.join(', ')}] and has unknown [${unknown.join(', ')}]`,
        );
      }
    }
  }
  return new Map([...catalogues].sort(([a], [b]) => (a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b))));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** JSON that cannot end the <script> data block it sits in. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function named(body: string, ext: 'js' | 'css') {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  return { name: `claim.${hash}.${ext}`, body: Buffer.from(body) };
}

export async function buildClaimPageAssets(): Promise<ClaimPageAssets> {
  const catalogues = loadCatalogues();
  const bundled = await build({
    entryPoints: [here('./client/main.ts')],
    bundle: true,
    write: false,
    minify: true,
    format: 'iife',
    target: 'es2020',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const css = await transform(readFileSync(here('./page.css'), 'utf8'), { loader: 'css', minify: true });
  const script = named(bundled.outputFiles[0]?.text ?? '', 'js');
  const style = named(css.code, 'css');

  // Whitespace between tags and indentation are dropped: they are a fifth of the page's bytes.
  const template = readFileSync(here('./page.html'), 'utf8').replace(/>\s+</g, '><').replace(/\n\s*/g, ' ');
  const links = (current: string) =>
    [...catalogues]
      .map(
        ([lang, c]) =>
          `<a href="?lang=${lang}" hreflang="${lang}" lang="${lang}" dir="${c.meta.dir}"${lang === current ? ' aria-current="true"' : ''}>${escapeHtml(c.meta.name)}</a>`,
      )
      .join('');
  const pages = new Map(
    [...catalogues].map(([lang, c]) => {
      const fills: Record<string, string> = {
        lang,
        dir: c.meta.dir,
        css: `/c/assets/${style.name}`,
        js: `/c/assets/${script.name}`,
        messages: jsonForScript(c.script),
        languages: links(lang),
      };
      const html = template.replace(/\{\{([\w.]+)\}\}/g, (_, key: string) => {
        const text = key.startsWith('page.') ? c.page[key.slice('page.'.length)] : undefined;
        const fill = text === undefined ? fills[key] : escapeHtml(text);
        if (fill === undefined)
          throw new Error(`claim page: page.html names {{${key}}}, which nothing fills`);
        return fill;
      });
      return [lang, html];
    }),
  );

  const assets = new Map<string, Asset>([
    [script.name, { type: 'text/javascript; charset=utf-8', body: script.body }],
    [style.name, { type: 'text/css; charset=utf-8', body: style.body }],
  ]);
  return {
    languages: [...catalogues.keys()],
    page: (lang) => pages.get(lang) ?? pages.get('en') ?? '',
    asset: (name) => assets.get(name),
  };
}
