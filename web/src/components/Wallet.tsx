// Connect (every EIP-6963 wallet the browser announces), the wrong-network state with a switch,
// SIWE sign-in and sign-out.
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useConnect, useConnection, useConnectors, useDisconnect, useSignMessage, useSwitchChain } from "wagmi";
import { chain } from "../chain/wagmi";
import { signIn, signOut } from "../auth/session";
import { useSession } from "../auth/useSession";
import { shortAddress } from "../lib/format";
import { reasonOf } from "../chain/reason";

export function useWallet() {
  const { address, chainId, status } = useConnection();
  const session = useSession();
  const signedIn = !!session && !!address && session.address.toLowerCase() === address.toLowerCase();
  return { address, chainId, connected: status === "connected", wrongNetwork: status === "connected" && chainId !== chain.id, session, signedIn };
}

export function WalletButton() {
  const { t } = useTranslation();
  const { address, connected, signedIn } = useWallet();
  const [open, setOpen] = useState(false);
  const { signMessageAsync } = useSignMessage();
  const { disconnect } = useDisconnect();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!connected || !address) {
    return (
      <>
        <button type="button" className="btn primary" onClick={() => setOpen(true)} data-testid="connect">
          {t("wallet.connect")}
        </button>
        {open && <ConnectDialog onClose={() => setOpen(false)} />}
      </>
    );
  }
  const doSignIn = async () => {
    setBusy(true);
    setError(null);
    try {
      await signIn(address, chain.id, (message) => signMessageAsync({ message }));
    } catch (e) {
      setError(reasonOf(e, t("tx.rejected")));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="wallet">
      <span className="addr" title={address} data-testid="account">
        {shortAddress(address)}
      </span>
      {signedIn ? (
        <button
          type="button"
          className="btn"
          onClick={() => {
            void signOut();
            disconnect();
          }}
          data-testid="sign-out"
        >
          {t("wallet.signOut")}
        </button>
      ) : (
        <button type="button" className="btn primary" onClick={doSignIn} disabled={busy} data-testid="sign-in">
          {busy ? t("wallet.signing") : t("wallet.signIn")}
        </button>
      )}
      {error && (
        <p role="alert" className="error small">
          {error}
        </p>
      )}
    </div>
  );
}

function ConnectDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const connectors = useConnectors();
  const { connect, error, status } = useConnect();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  // EIP-6963 wallets first; the generic injected fallback only when nothing announced itself.
  const announced = connectors.filter((c) => c.id !== "injected");
  const shown = announced.length ? announced : connectors;
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="connect-title" onClose={onClose} onCancel={onClose}>
      <h2 id="connect-title">{t("wallet.choose")}</h2>
      {shown.length === 0 && <p>{t("wallet.none")}</p>}
      <ul className="plain stack">
        {shown.map((c) => (
          <li key={c.uid}>
            <button
              type="button"
              className="btn wide"
              disabled={status === "pending"}
              onClick={() => connect({ connector: c, chainId: chain.id }, { onSuccess: onClose })}
            >
              {c.icon && <img src={c.icon} alt="" width={24} height={24} />}
              {c.name}
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p role="alert" className="error">
          {reasonOf(error, t("tx.rejected"))}
        </p>
      )}
      <button type="button" className="btn" onClick={onClose}>
        {t("common.close")}
      </button>
    </dialog>
  );
}

export function NetworkBanner() {
  const { t } = useTranslation();
  const { wrongNetwork } = useWallet();
  const { switchChain, isPending, error } = useSwitchChain();
  if (!wrongNetwork) return null;
  return (
    <div className="banner warn" role="alert" data-testid="wrong-network">
      <span>{t("wallet.wrongNetwork", { name: chain.name })}</span>
      <button type="button" className="btn" disabled={isPending} onClick={() => switchChain({ chainId: chain.id })}>
        {t("wallet.switch")}
      </button>
      {error && <span className="small">{reasonOf(error, t("tx.rejected"))}</span>}
    </div>
  );
}

/** Shown where an action needs a signed-in wallet. */
export function NeedsWallet({ children }: { children: React.ReactNode }) {
  const { t } = useTranslation();
  const { connected, wrongNetwork } = useWallet();
  if (!connected) return <p className="muted">{t("wallet.connectFirst")}</p>;
  if (wrongNetwork) return <p className="muted">{t("wallet.switchFirst")}</p>;
  return <>{children}</>;
}
