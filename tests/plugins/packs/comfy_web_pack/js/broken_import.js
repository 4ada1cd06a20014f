// A script that fails while it is imported (as one using a LiteGraph global NodeFlow lacks would).
import { app } from "../../scripts/app.js";

throw new Error(`broken at import (app is ${typeof app})`);
