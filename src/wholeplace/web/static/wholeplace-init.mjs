// Starts the GOV.UK Frontend components (service navigation menu, details, error summary...).
import { initAll } from "./vendor/govuk/govuk-frontend.min.js";

initAll();
