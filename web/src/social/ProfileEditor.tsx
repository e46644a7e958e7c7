// The signed-in account's own profile form (on its profile page): handle, display name, bio and
// an avatar among the NFTs it owns. A profile message replaces every field, so the form starts
// from the current profile; nothing is signed while a field breaks nest-social's limits
// (validate.ts, the same as social/src/content.rs).
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import type { Address } from "viem";
import { endpoints, keys } from "../api/endpoints";
import type { SocialProfile } from "../api/types";
import { formatNumber } from "../lib/format";
import { profileMessage, type ProfileFields } from "./messages";
import { sendMessage } from "./send";
import { useSocialWrite } from "./ui";
import { byteSize, checkProfile, HANDLE_MAX, HANDLE_MIN, MAX_BIO, MAX_DISPLAY_NAME, type Problem } from "./validate";

function initial(p: SocialProfile): ProfileFields {
  return { handle: p.handle ?? "", displayName: p.displayName ?? "", bio: p.bio ?? "", avatar: p.avatar ?? null };
}

const avatarValue = (a: ProfileFields["avatar"]) => (a ? `${a.contract.toLowerCase()}:${a.tokenId}` : "");

export default function ProfileEditor({ profile, account, onDone }: { profile: SocialProfile; account: Address; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const [fields, setFields] = useState<ProfileFields>(() => initial(profile));
  const [tried, setTried] = useState(false);
  const { busy, error, run } = useSocialWrite();
  const owned = useQuery({ queryKey: keys.nfts(account), queryFn: () => endpoints.nfts(account) });
  const base = useId();
  const problems = checkProfile(fields);
  const invalid = Object.keys(problems).length > 0;
  const set = (patch: Partial<ProfileFields>) => setFields((f) => ({ ...f, ...patch }));
  const message = (field: keyof ProfileFields, problem: Problem | undefined, limit?: number) =>
    problem ? (
      <p id={`${base}-${field}-error`} className="small error" role="alert">
        {t(`social.invalid.${problem}`, { n: formatNumber(limit ?? 0, i18n.language), min: HANDLE_MIN, max: HANDLE_MAX })}
      </p>
    ) : null;
  const described = (field: keyof ProfileFields) => (problems[field] ? `${base}-${field}-error` : `${base}-${field}-hint`);
  const choices = [...(owned.data?.items ?? []).map((n) => ({ contract: n.contract, tokenId: n.tokenId, name: n.metadata?.name }))];
  if (fields.avatar && !choices.some((c) => avatarValue(c) === avatarValue(fields.avatar))) choices.unshift({ ...fields.avatar, name: undefined });
  return (
    <form
      className="panel stack composer"
      data-testid="profile-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setTried(true);
        if (invalid) return;
        void run(() => sendMessage("Profile", profileMessage(account, fields))).then((ok) => ok && onDone());
      }}
    >
      <h2>{t("social.profileForm.title")}</h2>
      <label htmlFor={`${base}-handle`} className="block">
        {t("social.profileForm.handle")}
      </label>
      <input
        id={`${base}-handle`}
        value={fields.handle}
        onChange={(e) => set({ handle: e.target.value })}
        autoCapitalize="none"
        autoComplete="off"
        spellCheck={false}
        aria-invalid={!!problems.handle}
        aria-describedby={described("handle")}
        data-testid="profile-handle"
      />
      <p id={`${base}-handle-hint`} className="small muted">
        {t("social.profileForm.handleHint", { min: HANDLE_MIN, max: HANDLE_MAX })}
      </p>
      {message("handle", problems.handle)}
      <label htmlFor={`${base}-displayName`} className="block">
        {t("social.profileForm.displayName")}
      </label>
      <input
        id={`${base}-displayName`}
        value={fields.displayName}
        onChange={(e) => set({ displayName: e.target.value })}
        aria-invalid={!!problems.displayName}
        aria-describedby={described("displayName")}
        data-testid="profile-name"
      />
      <p id={`${base}-displayName-hint`} className="small muted">
        {t("social.bytesLeft", { n: formatNumber(MAX_DISPLAY_NAME - byteSize(fields.displayName), i18n.language) })}
      </p>
      {message("displayName", problems.displayName, MAX_DISPLAY_NAME)}
      <label htmlFor={`${base}-bio`} className="block">
        {t("social.profileForm.bio")}
      </label>
      <textarea
        id={`${base}-bio`}
        value={fields.bio}
        onChange={(e) => set({ bio: e.target.value })}
        rows={3}
        aria-invalid={!!problems.bio}
        aria-describedby={described("bio")}
        data-testid="profile-bio"
      />
      <p id={`${base}-bio-hint`} className="small muted">
        {t("social.bytesLeft", { n: formatNumber(MAX_BIO - byteSize(fields.bio), i18n.language) })}
      </p>
      {message("bio", problems.bio, MAX_BIO)}
      <label htmlFor={`${base}-avatar`} className="block">
        {t("social.profileForm.avatar")}
      </label>
      <select
        id={`${base}-avatar`}
        value={avatarValue(fields.avatar)}
        onChange={(e) => {
          const [contract, tokenId] = e.target.value.split(":");
          set({ avatar: contract && tokenId ? { contract, tokenId } : null });
        }}
        aria-invalid={!!problems.avatar}
        aria-describedby={described("avatar")}
        data-testid="profile-avatar"
      >
        <option value="">{t("social.profileForm.noAvatar")}</option>
        {choices.map((c) => (
          <option key={avatarValue(c)} value={avatarValue(c)}>
            {c.name || t("nft.name", { id: c.tokenId })}
          </option>
        ))}
      </select>
      <p id={`${base}-avatar-hint`} className="small muted">
        {t("social.profileForm.avatarHint")}
      </p>
      {message("avatar", problems.avatar)}
      <div className="row wrap">
        <button type="submit" className="btn primary" disabled={busy || (tried && invalid)} data-testid="profile-save">
          {busy ? t("wallet.signing") : t("social.save")}
        </button>
        <button type="button" className="btn" onClick={onDone} disabled={busy}>
          {t("nft.cancel")}
        </button>
      </div>
      <ErrorLine text={error} />
    </form>
  );
}

function ErrorLine({ text }: { text: string | null }) {
  return text ? (
    <p role="alert" className="error small">
      {text}
    </p>
  ) : null;
}
