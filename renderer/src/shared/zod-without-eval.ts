// Zod's fast path compiles parsers with `new Function`, which the screens' CSP (no 'unsafe-eval')
// refuses; its probe for it, made as each object schema is built, would be reported as a violation.
// So every entry imports this module FIRST, before any module that builds a schema.
import { z } from 'zod';

z.config({ jitless: true });
