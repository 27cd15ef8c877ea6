import { prefersHtml, wantsJson } from './accept';

describe('wantsJson (Nodepool webapp format negotiation)', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['application/json', true],
    ['text/plain', false],
    ['*/*', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ['application/json, text/plain', false],
    ['application/json, text/plain;q=0.5', true],
    ['text/*;q=0.2, application/json', true],
    ['application/*', true],
    ['image/png', false],
    ['application/json;q=0', false],
  ])('Accept %p → json %p', (accept, json) => {
    expect(wantsJson(accept)).toBe(json);
  });
});

describe('prefersHtml (the dashboard at /)', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['text/plain', false],
    ['application/json', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html;q=0.5, text/plain', false],
    ['text/html;q=0', false],
  ])('Accept %p → html %p', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
