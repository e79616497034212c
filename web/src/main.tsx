/** Entry point: replace the static loading header with the view. */
import { render } from 'preact';
import { App } from './ui/App.js';
import './style.css';

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
