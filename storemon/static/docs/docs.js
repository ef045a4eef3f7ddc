// The API's documentation page (/schema): Swagger UI on storemon's OpenAPI document, with no
// inline script (the pages' Content-Security-Policy allows none) and no call to elsewhere.
"use strict";
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("docs");
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    dom_id: "#docs",
    deepLinking: true,
    validatorUrl: null,
  });
});
