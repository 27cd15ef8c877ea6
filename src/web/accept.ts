/**
 * The web app's format negotiation (spec §5.2, WEB:123-134): the best of the offers
 * `text/html`, `text/plain`, `application/json` for the `Accept` header, JSON only when
 * `application/json` wins. No header, or nothing acceptable, gives text (where Nodepool answers
 * 500 for the latter).
 */

const OFFERS = ['text/html', 'text/plain', 'application/json'] as const;

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [media, ...params] = part.trim().split(';');
    const [type, subtype] = media.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim().toLowerCase() === 'q') {
        const n = Number.parseFloat(v ?? '');
        q = Number.isFinite(n) ? Math.min(Math.max(n, 0), 1) : 1;
      }
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** Quality of `offer`: that of the most specific matching range, 0 when none matches. */
function quality(offer: string, ranges: readonly Range[]): number {
  const [type, subtype] = offer.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity = r.type === type && r.subtype === subtype ? 2 : r.type === type && r.subtype === '*' ? 1 : r.type === '*' && r.subtype === '*' ? 0 : -1;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/** True when the `Accept` header makes `application/json` the best offer (ties: earlier offer). */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept || accept.trim() === '') return false;
  const ranges = parseAccept(accept);
  let bestOffer: string | undefined;
  let bestQ = 0;
  for (const offer of OFFERS) {
    const q = quality(offer, ranges);
    if (q > bestQ) {
      bestQ = q;
      bestOffer = offer;
    }
  }
  return bestOffer === 'application/json';
}

/**
 * True when the `Accept` header names `text/html` itself (as browsers do) and it is not beaten
 * by JSON: `/` then serves the dashboard. `*\/*` alone (curl) gets the text index instead.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const named = ranges.some((r) => r.type === 'text' && r.subtype === 'html' && r.q > 0);
  return named && !wantsJson(accept) && quality('text/html', ranges) >= quality('text/plain', ranges);
}
