// A small client-side router (History API): the app has a handful of routes, and a routing
// library would cost more bytes than it saves. The api answers index.html for every route.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";

const listeners = new Set<() => void>();
function subscribe(l: () => void) {
  listeners.add(l);
  window.addEventListener("popstate", l);
  return () => {
    listeners.delete(l);
    window.removeEventListener("popstate", l);
  };
}

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, "", to);
  listeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => location.pathname, () => "/");
}

export interface Match {
  name: string;
  params: Record<string, string>;
}

const routes: Array<[string, RegExp, string[]]> = [
  ["market", /^\/$/, []],
  ["nft", /^\/nft\/(0x[0-9a-fA-F]{40})\/(\d{1,78})$/, ["contract", "tokenId"]],
  ["auction", /^\/auction\/(\d{1,78})$/, ["id"]],
  ["portfolio", /^\/portfolio$/, []],
  ["dao", /^\/dao$/, []],
  ["proposal", /^\/dao\/(\d{1,78})$/, ["id"]],
  ["settings", /^\/settings$/, []],
  ["social", /^\/social$/, []],
  ["socialPost", /^\/social\/post\/(0x[0-9a-fA-F]{64})$/, ["id"]],
  ["socialProfile", /^\/social\/u\/(0x[0-9a-fA-F]{40})$/, ["address"]],
  ["notifications", /^\/social\/notifications$/, []],
];

export function match(path: string): Match {
  for (const [name, re, names] of routes) {
    const m = re.exec(path);
    if (m) return { name, params: Object.fromEntries(names.map((n, i) => [n, m[i + 1]])) };
  }
  return { name: "notFound", params: {} };
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
