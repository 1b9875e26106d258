import { InMemoryWebStorage, WebStorageStateStore } from "oidc-client-ts";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { AuthProvider } from "react-oidc-context";
import { Predictor, SignedIn } from "./App.tsx";
import { loadConfig } from "./config.ts";

const root = createRoot(document.getElementById("root")!);

loadConfig().then(
  (config) =>
    root.render(
      <StrictMode>
        {config.signIn ? (
          // Discovery at the issuer gives every endpoint: no static metadata.
          <AuthProvider
            authority={config.signIn.issuer}
            client_id={config.signIn.clientId}
            redirect_uri={window.location.origin + "/"}
            scope="openid email"
            // The tokens in memory only, as the site keeps them: nothing
            // for a script to find in storage, nothing left when the tab
            // closes (a reload signs in again).
            userStore={new WebStorageStateStore({ store: new InMemoryWebStorage() })}
            // The code and state leave the address bar once exchanged.
            onSigninCallback={() => window.history.replaceState({}, document.title, window.location.pathname)}
          >
            <SignedIn config={config} />
          </AuthProvider>
        ) : (
          <Predictor config={config} />
        )}
      </StrictMode>,
    ),
  (err) => root.render(<p role="alert" id="error">{String(err)}</p>),
);
