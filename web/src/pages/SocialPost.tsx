// A post with its thread (replies oldest first, paged) and a reply box.
import { useTranslation } from "react-i18next";
import { useInfiniteQuery } from "@tanstack/react-query";
import type { Hex } from "viem";
import { endpoints, keys } from "../api/endpoints";
import { ErrorNote, Loading, MorePages } from "../components/common";
import { useLive } from "../lib/live";
import { Link } from "../lib/router";
import { Composer, PostCard, useViewer } from "../social/ui";

export default function SocialPost({ id }: { id: string }) {
  const { t } = useTranslation();
  const viewer = useViewer();
  const q = useInfiniteQuery({
    queryKey: keys.thread(id, viewer),
    queryFn: ({ pageParam }) => endpoints.thread(id, pageParam, viewer),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });
  useLive("social-posts", [keys.thread(id)]);
  const root = q.data?.pages[0]?.root;
  const replies = q.data?.pages.flatMap((p) => p.replies) ?? [];
  return (
    <section className="stack social">
      <p>
        <Link href="/social">{t("social.back")}</Link>
      </p>
      <h1>{t("social.thread")}</h1>
      {q.isPending && <Loading />}
      {q.error && <ErrorNote error={q.error} />}
      {root && (
        <>
          {root.id !== id && (
            <p className="small">
              <Link href={`/social/post/${root.id}`}>{t("social.viewRoot")}</Link>
            </p>
          )}
          <PostCard post={root} link={false} />
          <Composer parent={id as Hex} />
          <h2>{t("social.repliesTitle")}</h2>
          {replies.length === 0 && <p className="muted">{t("social.noReplies")}</p>}
          <ul className="plain stack replies" data-testid="replies">
            {replies.map((r) => (
              <li key={r.id} style={{ marginInlineStart: `${Math.min(Math.max(r.depth - 1, 0), 4)}rem` }}>
                <PostCard post={r} />
              </li>
            ))}
          </ul>
          <MorePages q={q} />
        </>
      )}
    </section>
  );
}
