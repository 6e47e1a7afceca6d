import React, {type ReactElement, useEffect, useState} from 'react';
import {Box} from 'ink';

/**
Shows a screen only once its effects have run. A screen's `useInput` attaches its handler in an
effect, after the commit that draws it: drawn at once, a key typed the instant it shows (a loaded
machine, a fast operator) would reach no handler. Effects run children first, so when this one
runs the screen's handlers are attached; only then is it drawn. Used by the console for a screen an
action opens, and inside a screen that replaces what it shows (the mirror wizard after its planning).
*/
export function ScreenGate({children}: {readonly children: ReactElement}) {
	const [shown, setShown] = useState(false);
	useEffect(() => {
		setShown(true);
	}, []);
	return <Box flexDirection='column' display={shown ? 'flex' : 'none'}>{children}</Box>;
}
