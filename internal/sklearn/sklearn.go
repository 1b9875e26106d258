// Package sklearn finds the Python that has scikit-learn (and XGBoost), for
// the export's parity test and the benchmarks' Python side. Debian's
// python3-sklearn and python3-xgboost install them for /usr/bin/python3,
// which need not be the first python3 on PATH (pyenv, a virtualenv).
package sklearn

import (
	"os/exec"
	"strings"
)

// Hint is what to do where Python returns "".
const Hint = "scikit-learn and XGBoost not found for python3 or /usr/bin/python3; install them (Debian/Ubuntu: `sudo apt-get install python3-sklearn python3-xgboost`)"

// Python returns an interpreter that imports scikit-learn, joblib and the
// given modules, or "".
func Python(modules ...string) string {
	imports := "import " + strings.Join(append([]string{"sklearn", "joblib"}, modules...), ", ")
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", imports).Run() == nil {
			if abs, err := exec.LookPath(py); err == nil {
				return abs
			}
		}
	}
	return ""
}
