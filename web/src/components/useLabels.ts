import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import type { Labels } from "../chain/actions";

/** Translated labels of an action's steps. */
export function useLabels() {
  const { t } = useTranslation();
  return (main: string, params: Record<string, string> = {}): Labels => ({
    rejected: t("tx.rejected"),
    approve: t("tx.approve"),
    main: t(main, params),
  });
}

/** Runs one action at a time (`busy` disables the buttons), then refreshes what it changed. */
export function useAction(after?: () => void) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<boolean>) => {
    setBusy(true);
    try {
      await action();
    } finally {
      setBusy(false);
      if (after) after();
      else void client.invalidateQueries();
    }
  };
  return { busy, run };
}
