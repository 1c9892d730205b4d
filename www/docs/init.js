/* CandidateX API docs: start Swagger UI on the served OpenAPI document. Kept out of the
 * page so the Content-Security-Policy needs no inline script. */
"use strict";
window.addEventListener("load", function () {
	if (typeof window.SwaggerUIBundle !== "function") {
		document.getElementById("swagger-ui").textContent =
		    "The API docs viewer is not installed (run ./dev.sh deps). " +
		    "The raw document is at /api/openapi.json.";
		return;
	}
	window.ui = window.SwaggerUIBundle({
		url: "/api/openapi.json",
		dom_id: "#swagger-ui",
		deepLinking: true,
		validatorUrl: null,
		tryItOutEnabled: false,
		persistAuthorization: false,
		presets: [window.SwaggerUIBundle.presets.apis],
		layout: "BaseLayout"
	});
});
