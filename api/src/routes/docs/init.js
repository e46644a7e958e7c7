// The Nest API reference: Swagger UI over the served /openapi.json. Everything it loads comes
// from this origin (no CDN, no validator badge), so it works offline and under
// `script-src 'self'`.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#api-reference",
    validatorUrl: null,
    deepLinking: true,
  });
});
