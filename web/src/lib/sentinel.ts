// Infinite scroll: calls `onVisible` when the returned element nears the viewport (the pages
// put it after their list and pass "has a next page and is not fetching it" as `enabled`).
import { useEffect, useRef } from "react";

export function useSentinel(onVisible: () => void, enabled: boolean) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || !enabled || typeof IntersectionObserver === "undefined") return;
    const io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && onVisible(), { rootMargin: "400px" });
    io.observe(el);
    return () => io.disconnect();
  }, [onVisible, enabled]);
  return ref;
}
