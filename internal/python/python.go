// Package python finds a Python interpreter that imports what a caller
// needs: scikit-learn and XGBoost for the export's parity test and the
// benchmarks' Python side. Debian's python3-sklearn and python3-xgboost
// install them for /usr/bin/python3, which need not be the first python3 on
// PATH (pyenv, a virtualenv), so both are tried.
package python

import (
	"os/exec"
	"strings"
)

// ScikitLearnHint is what to do where With("sklearn", ...) finds none.
const ScikitLearnHint = "scikit-learn, XGBoost and pandas not found for python3 or /usr/bin/python3; install them (Debian/Ubuntu: `sudo apt-get install python3-sklearn python3-xgboost python3-pandas`)"

// With returns the path of an interpreter that imports every module, or "".
func With(modules ...string) string {
	imports := "import " + strings.Join(modules, ", ")
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", imports).Run() == nil {
			if abs, err := exec.LookPath(py); err == nil {
				return abs
			}
		}
	}
	return ""
}
