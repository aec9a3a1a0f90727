import { SIGN_IN_PATH, SIGN_OUT_PATH } from './paths.js';

/** The dashboard's own two pages: plain HTML forms, no script (the CSP allows none inline). */
export interface Notice {
  tone: 'info' | 'error';
  text: string;
}

/** Messages for `?reason=` after a redirect; only these fixed texts are ever shown. */
export const REASONS: Record<string, Notice> = {
  'signed-out': { tone: 'info', text: 'You are signed out.' },
  unauthenticated: { tone: 'info', text: 'Sign in to open the queue dashboard (there is no session, or it has expired).' },
  forbidden: { tone: 'error', text: 'Your roles may not open the queue dashboard: it is for platform operators.' },
};

export function signInPage(notice?: Notice): string {
  return layout(
    'Sign in · queue dashboard',
    `<h1>Queue dashboard</h1>
    ${notice ? `<p class="notice ${notice.tone}" role="${notice.tone === 'error' ? 'alert' : 'status'}">${escapeHtml(notice.text)}</p>` : ''}
    <form method="post" action="${SIGN_IN_PATH}">
      <label for="token">Bearer token (JWT)</label>
      <textarea id="token" name="token" rows="6" required autocomplete="off" spellcheck="false"></textarea>
      <button type="submit">Sign in</button>
    </form>
    <p class="hint">For platform operators (<code>operator</code> role): retry, remove and promote jobs. Tenant admins use the API.
    In development, <code>npm run token -- --sub you --tenant acme --roles operator</code> prints a token.</p>`,
  );
}

export function signOutPage(): string {
  return layout(
    'Sign out · queue dashboard',
    `<h1>Sign out of the queue dashboard?</h1>
    <form method="post" action="${SIGN_OUT_PATH}"><button type="submit">Sign out</button></form>`,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #151a21; color: #e6e9ee; display: grid; place-items: center; min-height: 100vh; margin: 0; }
  main { width: min(34rem, 92vw); background: #1e252e; padding: 2rem; border-radius: 8px; }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin-bottom: .4rem; }
  textarea { width: 100%; box-sizing: border-box; font-family: ui-monospace, monospace; font-size: .8rem; background: #0f1318; color: inherit; border: 1px solid #3a4552; border-radius: 4px; padding: .5rem; }
  button { margin-top: 1rem; padding: .5rem 1.2rem; background: #3b82f6; color: white; border: 0; border-radius: 4px; font-size: 1rem; cursor: pointer; }
  .notice { padding: .6rem .8rem; border-radius: 4px; }
  .notice.error { background: #4b1d1d; }
  .notice.info { background: #1d3b4b; }
  .hint { color: #8b96a5; font-size: .85rem; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}
