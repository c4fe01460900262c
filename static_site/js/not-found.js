// The 404 page: its few words in the page's language (i18n.js).
import { translatePage } from "./i18n.js";

translatePage();
