// i18next with four catalogues (en bundled; ko, ja, zh loaded when chosen). The language is the
// remembered choice, else the browser's first supported one; <html lang> follows it.
import i18next from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en.json";

export const LANGUAGES = ["en", "ko", "ja", "zh"] as const;
export type Language = (typeof LANGUAGES)[number];
const STORAGE_KEY = "nest.lang";

export function pickLanguage(stored: string | null, browser: readonly string[]): Language {
  if (stored && (LANGUAGES as readonly string[]).includes(stored)) return stored as Language;
  for (const tag of browser) {
    const base = tag.toLowerCase().split("-")[0];
    if ((LANGUAGES as readonly string[]).includes(base)) return base as Language;
  }
  return "en";
}

const loaders: Record<Exclude<Language, "en">, () => Promise<{ default: Record<string, unknown> }>> = {
  ko: () => import("./locales/ko.json"),
  ja: () => import("./locales/ja.json"),
  zh: () => import("./locales/zh.json"),
};

async function ensureLoaded(lang: Language): Promise<void> {
  if (lang === "en" || i18next.hasResourceBundle(lang, "translation")) return;
  const bundle = await loaders[lang]();
  i18next.addResourceBundle(lang, "translation", bundle.default, true, true);
}

function storedLanguage(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export async function initI18n(): Promise<void> {
  const lang = pickLanguage(storedLanguage(), navigator.languages ?? [navigator.language]);
  await i18next.use(initReactI18next).init({
    resources: { en: { translation: en } },
    lng: "en",
    fallbackLng: "en",
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  await setLanguage(lang, false);
}

export async function setLanguage(lang: Language, remember = true): Promise<void> {
  await ensureLoaded(lang);
  await i18next.changeLanguage(lang);
  document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      /* private mode: not remembered */
    }
  }
}

export { i18next };
