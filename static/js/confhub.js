// confhub's progressive enhancements. Every page works without JavaScript; these small modules
// only add conveniences, each wired to data attributes in the server-rendered HTML (no inline
// scripts or handlers, so a strict Content-Security-Policy can forbid them).
import { enhanceAgenda } from "./agenda.js";
import { enhanceCopyButtons } from "./clipboard.js";
import { enhanceDateTimes } from "./datetime.js";
import { enhanceConfirmations } from "./confirm.js";
import { enhancePrintButtons } from "./print.js";
import { enhanceBusy } from "./busy.js";
import { enhanceMenu } from "./menu.js";
import { enhanceUploads } from "./uploads.js";

// Module scripts run after the document is parsed.
enhanceAgenda(document);
enhanceCopyButtons(document);
enhanceDateTimes(document);
enhanceConfirmations(document);
enhancePrintButtons(document);
enhanceUploads(document);
enhanceMenu(document);
enhanceBusy(document);
