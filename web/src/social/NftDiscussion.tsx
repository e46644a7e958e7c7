// An NFT's discussion thread (channel `nft:<contract>:<tokenId>`) on its page: loaded after the
// page itself (the signing code stays out of the NFT page's own chunk).
import { useTranslation } from "react-i18next";
import { endpoints, keys } from "../api/endpoints";
import { Composer, Feed, useViewer } from "./ui";

export default function NftDiscussion({ contract, tokenId }: { contract: string; tokenId: string }) {
  const { t } = useTranslation();
  const viewer = useViewer();
  return (
    <section aria-labelledby="discussion-h" className="stack" data-testid="discussion">
      <h2 id="discussion-h">{t("social.discussion")}</h2>
      <Composer channel={`nft:${contract.toLowerCase()}:${tokenId}`} />
      <Feed
        queryKey={keys.feed("nft", `${contract}:${tokenId}`, viewer)}
        load={(c) => endpoints.nftPosts(contract, tokenId, c, viewer)}
        empty={t("social.noDiscussion")}
      />
    </section>
  );
}
