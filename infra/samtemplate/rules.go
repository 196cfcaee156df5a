package samtemplate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// FailingRules evaluates the template's Rules as CloudFormation does before
// it makes a change set, with the given parameter values (the declared
// defaults fill the rest), and returns the names of the rules with a failing
// assertion, sorted. An error means the rules use something it cannot
// evaluate.
func FailingRules(raw map[string]any, given map[string]string) ([]string, error) {
	params := map[string]any{}
	for name, decl := range AsMap(raw["Parameters"]) {
		value, ok := given[name]
		if !ok {
			if d := Get(decl, "Default"); d != nil {
				value = fmt.Sprint(d)
			}
		}
		if strings.Contains(Str(Get(decl, "Type")), "List") {
			params[name] = strings.Split(value, ",")
		} else {
			params[name] = value
		}
	}
	var failed []string
	for _, name := range SortedKeys(AsMap(raw["Rules"])) {
		rule := AsMap(raw["Rules"])[name]
		if cond := Get(rule, "RuleCondition"); cond != nil {
			applies, err := condition(cond, params)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !applies {
				continue
			}
		}
		for _, a := range List(Get(rule, "Assertions")) {
			if Str(Get(a, "AssertDescription")) == "" {
				return nil, fmt.Errorf("rule %s: an assertion without AssertDescription tells the operator nothing", name)
			}
			ok, err := condition(Get(a, "Assert"), params)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !ok {
				failed = append(failed, name)
				break
			}
		}
	}
	sort.Strings(failed)
	return failed, nil
}

func condition(v any, params map[string]any) (bool, error) {
	r, err := ruleValue(v, params)
	if err != nil {
		return false, err
	}
	b, ok := r.(bool)
	if !ok {
		return false, fmt.Errorf("%v is not a condition", v)
	}
	return b, nil
}

func stringsOf(v any, params map[string]any) ([]string, error) {
	r, err := ruleValue(v, params)
	if err != nil {
		return nil, err
	}
	switch x := r.(type) {
	case []string:
		return x, nil
	case string:
		return []string{x}, nil
	}
	return nil, fmt.Errorf("%v is not a list of strings", v)
}

func stringOf(v any, params map[string]any) (string, error) {
	r, err := ruleValue(v, params)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

// ruleValue evaluates the functions CloudFormation allows in rules.
func ruleValue(v any, params map[string]any) (any, error) {
	switch v := v.(type) {
	case string, bool:
		return v, nil
	case float64:
		return fmt.Sprint(v), nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, err := stringOf(e, params)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	case map[string]any:
		if len(v) != 1 {
			return nil, fmt.Errorf("a rule function is a one-key map: %v", v)
		}
		for fn, arg := range v {
			args := List(arg)
			switch fn {
			case "Ref":
				p, ok := params[Str(arg)]
				if !ok {
					return nil, fmt.Errorf("Ref to unknown parameter %v", arg)
				}
				return p, nil
			case "Fn::Not":
				if len(args) != 1 {
					return nil, fmt.Errorf("Fn::Not takes one condition")
				}
				b, err := condition(args[0], params)
				return !b, err
			case "Fn::And", "Fn::Or":
				and := fn == "Fn::And"
				for _, a := range args {
					b, err := condition(a, params)
					if err != nil {
						return nil, err
					}
					if b != and {
						return !and, nil
					}
				}
				return and, nil
			}
			if len(args) != 2 {
				return nil, fmt.Errorf("%s takes two arguments", fn)
			}
			switch fn {
			case "Fn::Equals":
				a, err := ruleValue(args[0], params)
				if err != nil {
					return nil, err
				}
				b, err := ruleValue(args[1], params)
				return fmt.Sprint(a) == fmt.Sprint(b), err
			case "Fn::Contains":
				list, err := stringsOf(args[0], params)
				if err != nil {
					return nil, err
				}
				s, err := stringOf(args[1], params)
				return slices.Contains(list, s), err
			case "Fn::EachMemberEquals", "Fn::EachMemberIn":
				members, err := stringsOf(args[0], params)
				if err != nil {
					return nil, err
				}
				allowed, err := stringsOf(args[1], params)
				if err != nil {
					return nil, err
				}
				for _, m := range members {
					if !slices.Contains(allowed, m) {
						return false, nil
					}
				}
				return true, nil
			}
			return nil, fmt.Errorf("rule function %s is not evaluated here", fn)
		}
	}
	return nil, fmt.Errorf("unexpected rule value %#v", v)
}
