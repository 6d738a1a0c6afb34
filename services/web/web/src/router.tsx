// A small history router: the app has a handful of flat routes, which do not
// need a routing library in the bundle.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  listeners.forEach((l) => l());
}

// useLocation answers the address and follows it. A link opened in a tab
// already at its page, /join#… pasted over /join#…, changes only the
// fragment: no page load, and hashchange is what says so.
export function useLocation(): URL {
  const [url, setURL] = useState(() => new URL(location.href));
  useEffect(() => {
    const update = () => setURL((old) => (old.href === location.href ? old : new URL(location.href)));
    listeners.add(update);
    addEventListener("popstate", update);
    addEventListener("hashchange", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
      removeEventListener("hashchange", update);
    };
  }, []);
  return url;
}

// fragment reads the parameters of an address's fragment (#token=…), where
// the links the app mails and hands out carry their tokens: a browser never
// sends the fragment to a server, so it stays out of every access log.
export function fragment(url: URL): URLSearchParams {
  return new URLSearchParams(url.hash.slice(1));
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}
