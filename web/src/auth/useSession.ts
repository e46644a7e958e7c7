import { useSyncExternalStore } from "react";
import { session, subscribe } from "./session";

export function useSession() {
  return useSyncExternalStore(subscribe, session, () => null);
}
